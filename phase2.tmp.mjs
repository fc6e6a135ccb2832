const t = [['start', process.uptime()*1000]];
const m = (l) => t.push([l, process.uptime()*1000]);
const D = '/work/wt-startup/dist/src/';
await import('commander'); m('commander');
await import(D+'cli/exit.js'); m('exit.js');
await import('@node-rs/crc32'); m('crc32');
await import(D+'cli/commands/backup.js'); m('backup module graph');
const { main } = await import(D+'cli/main.js'); m('main.js');
const { processContext } = await import(D+'cli/context.js');
const { Worker } = await import('node:worker_threads');
if (process.env.W) { const w = new Worker(D+'source/file-reader-worker.js'); await new Promise(r => w.once('online', r)); m('a reader worker online'); await w.terminate(); m('terminated'); }
const w = process.stdout.write.bind(process.stdout); let first=true; process.stdout.write=(...a)=>{ if(first){first=false;m('first write')} return w(...a) };
await main(['backup','--stream','/tmp/su/one'], processContext(new AbortController().signal)); m('main done');
process.on('exit', () => { m('exit'); let p=0; for (const [l,v] of t) { process.stderr.write(`${v.toFixed(1).padStart(7)} +${(v-p).toFixed(1).padStart(5)} ${l}\n`); p=v; } });
