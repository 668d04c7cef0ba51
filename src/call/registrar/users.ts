// The extensions that may register: agents' phones and softphones, with their digest passwords,
// as listed under registrar.extensions in the config. Passwords never leave this module except
// through `password()`, which only the digest verifier calls.

/** Structurally the same as the config's RegistrarExtensionConfig (call does not import config). */
export interface Extension {
  user: string;
  password: string;
  name?: string;
}

export class UserDirectory {
  #byUser = new Map<string, Extension>();

  constructor(extensions: readonly Extension[]) {
    for (const e of extensions) {
      if (this.#byUser.has(e.user)) throw new RangeError(`duplicate extension ${e.user}`);
      this.#byUser.set(e.user, { ...e });
    }
  }

  has(user: string): boolean {
    return this.#byUser.has(user);
  }

  /** For DigestServer's `lookup`. */
  password(user: string): string | undefined {
    return this.#byUser.get(user)?.password;
  }

  /** Users and display names, without passwords (API, logs). */
  list(): { user: string; name?: string }[] {
    return [...this.#byUser.values()].map(({ user, name }) => (name === undefined ? { user } : { user, name }));
  }

  /**
   * RFC 3261 §10.3 step 4: is the authenticated user allowed to change the bindings of this
   * AOR user? Here an extension manages only its own registrations (no third-party register).
   */
  mayRegister(authUser: string, aorUser: string): boolean {
    return authUser === aorUser && this.#byUser.has(aorUser);
  }

  get size(): number {
    return this.#byUser.size;
  }
}
