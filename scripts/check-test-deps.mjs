// pretest: the integration tests drive real peers (SIPp) and make TLS certificates (openssl).
// On a fresh Debian machine where we run as root, install them; elsewhere say what is missing.
import { execSync, spawnSync } from 'node:child_process';

const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const missing = [
  ['sipp', 'sip-tester'],
  ['openssl', 'openssl'],
  ['sox', 'sox'],
].filter(([cmd]) => !have(cmd));

if (missing.length > 0) {
  const pkgs = missing.map(([, pkg]) => pkg).join(' ');
  if (process.getuid?.() === 0 && have('apt-get')) {
    console.log(`installing test peers: ${pkgs}`);
    execSync(`apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q ${pkgs}`, { stdio: 'inherit' });
  } else {
    console.error(`The tests need: ${pkgs}. Install with: sudo apt-get install -y ${pkgs}`);
    process.exit(1);
  }
}
