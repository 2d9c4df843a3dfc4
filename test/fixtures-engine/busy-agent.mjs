// A fixture agent (not a test): burns <ms> milliseconds of CPU time (not
// wall time, so a loaded machine does not shorten the burn; capped at 10 s
// of wall time) while holding 16 MB of memory, so the engine's resource
// sampling has something to measure. Usage: node busy-agent.mjs <ms>
const ms = Number(process.argv[2] ?? 0);
const keep = Buffer.alloc(16 * 1024 * 1024, 1);
const start = process.cpuUsage();
const cpuMs = () => {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1000;
};
const giveUp = Date.now() + 10_000;
let x = 0;
while (cpuMs() < ms && Date.now() < giveUp) {
  for (let i = 0; i < 10_000; i++) x = (x + Math.sqrt(x + i)) % 1e9;
}
process.stdout.write(`burned ${Math.round(cpuMs())} ms of CPU (${x >= 0}, ${keep.length} bytes)\n`);
