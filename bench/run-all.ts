// `npm run bench`: runs every `bench:<area>` script of package.json one after another (each in
// its own process, so one benchmark's load never skews the next) and repeats all their
// `figure <name> <number>` lines together at the end.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  scripts: Record<string, string>;
};
const names = Object.keys(pkg.scripts).filter((n) => n.startsWith('bench:'));
const figures: string[] = [];
let failed = 0;
for (const name of names) {
  process.stdout.write(`\n=== npm run ${name}\n`);
  const r = spawnSync('npm', ['run', '--silent', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 15 * 60_000 });
  process.stdout.write(r.stdout ?? '');
  if (r.status !== 0) {
    failed++;
    process.stdout.write(`(${name} exited with ${r.status ?? r.signal})\n`);
  }
  for (const line of (r.stdout ?? '').split('\n')) if (line.startsWith('figure ')) figures.push(line);
}
process.stdout.write('\n');
for (const f of figures) process.stdout.write(`${f}\n`);
process.exit(failed === 0 ? 0 : 1);
