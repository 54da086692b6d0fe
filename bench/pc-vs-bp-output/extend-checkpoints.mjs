// Prepares runs/.pc-mnist<E>-s<S>.checkpoint from a copy (runs/w/ckpt) of the 8-epoch run's checkpoints, for a resume to E epochs: node extend-checkpoints.mjs <S> <E>
import fs from 'node:fs';
const S = Number(process.argv[2]);
const spec = JSON.parse(fs.readFileSync('runs/w/pc-mnist.json', 'utf8'));
spec.job.epochs = Number(process.argv[3] ?? 16); spec.job.seeds = [S];
fs.writeFileSync(`runs/w/pc-mnist${spec.job.epochs}-s${S}.json`, JSON.stringify(spec, null, 1));
const resolved = JSON.parse(fs.readFileSync('runs/w/ckpt/spec.json', 'utf8'));
resolved.job.epochs = Number(process.argv[3] ?? 16); resolved.job.seeds = [S];
const dir = `runs/.pc-mnist${spec.job.epochs}-s${S}.checkpoint`;
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(`${dir}/spec.json`, `${JSON.stringify(resolved, null, 2)}\n`);
for (const m of ['pc', 'bp']) if (fs.existsSync(`runs/w/ckpt/seed-${S}-${m}`)) fs.cpSync(`runs/w/ckpt/seed-${S}-${m}`, `${dir}/seed-${S}-${m}`, { recursive: true });
console.log(fs.readdirSync(dir));
