/**
 * Durable captures against the fsync-each-message subscriber at the fsync latencies of the storage
 * an edge PC actually has (issue 18).
 *
 * Why: `durable` compares the gateway with a bare MQTT.js subscriber that fsyncs every message
 * before its PUBACK. Its ratio is the fsync latency divided by the gateway's cost per record: the
 * peer does one fsync per message, the gateway one per group commit. This machine's virtual disk
 * answers an fdatasync in ≈ 0.1–0.2 ms (its write cache is not the medium), so the peer reaches
 * 4,400–5,800 messages/s and a ratio of 20× would need ≥ 90,000 durable records/s — more than a
 * bare MQTT.js subscriber that writes nothing takes from aedes here (≈ 40,000 msg/s, `scale`). On
 * the storage of an industrial PC — SATA SSD without power-loss protection, eMMC, CFast/SD — a
 * flush that reaches the medium takes ≈ 0.5–10 ms.
 *
 * Method: the same `durable` bench (bench/durable.ts: the peer and the gateway, one after the other,
 * on the same broker, in the same process) runs as a child process under
 *   strace -f --seccomp-bpf -e trace=fsync,fdatasync -e inject=fsync,fdatasync:delay_enter=<µs>
 * so every fsync/fdatasync of BOTH (the peer's append file; SQLite's WAL) waits that long before it
 * enters the kernel, and only those two system calls are stopped (seccomp filter: the rest of the
 * process runs untraced). One run per latency; `delay 0` is the same child under strace with no
 * delay, so the tracer's own cost is in every row. The peer gets the first fifth of each stream
 * (its rate is fsync-bound and steady; the whole streams would take minutes at 5 ms), the gateway
 * all of it. Skipped (named in the output) without strace.
 *
 *   npm run build && node dist/bench/run.js durable-latency
 *   LG_BENCH_FSYNC_DELAYS_MS=0,0.5,1,2,5 node dist/bench/run.js durable-latency
 */
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

type Sizes = { loads: number; values: number; pacedSeconds: number; peerFraction: number };

async function runUnderStrace(delayUs: number, sizes: Sizes): Promise<Record<string, number>> {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'durable.js');
  const inject = delayUs > 0 ? ['-e', `inject=fsync,fdatasync:delay_enter=${delayUs}`] : [];
  const args = ['-f', '-qq', '--seccomp-bpf', '-o', '/dev/null', '-e', 'trace=fsync,fdatasync', ...inject, process.execPath, script, String(sizes.loads), String(sizes.values), String(sizes.pacedSeconds), `--peer-fraction=${sizes.peerFraction}`, '--json'];
  const child = spawn('strace', args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LG_BENCH_DURABLE_NO_PEER: '' } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  const line = out.split('\n').find((l) => l.startsWith('LG_BENCH_JSON '));
  if (code !== 0 || !line) throw new Error(`durable under strace (delay ${delayUs} µs) exited ${code}: ${(err || out).slice(-800)}`);
  return JSON.parse(line.slice('LG_BENCH_JSON '.length)) as Record<string, number>;
}

export async function benchDurableLatency(opts: { delaysMs?: number[]; sizes?: Sizes } = {}): Promise<Record<string, number>> {
  const fromEnv = process.env.LG_BENCH_FSYNC_DELAYS_MS?.split(',').map(Number).filter((x) => Number.isFinite(x) && x >= 0);
  const delays = fromEnv?.length ? fromEnv : (opts.delaysMs ?? [0, 0.5, 1, 2, 5]);
  const sizes = opts.sizes ?? { loads: 5000, values: 10_000, pacedSeconds: 5, peerFraction: 0.2 };
  // strace installed, and allowed to trace here (a container without ptrace refuses at the first syscall).
  const probe = spawnSync('strace', ['-f', '-qq', '--seccomp-bpf', '-o', '/dev/null', '-e', 'trace=fsync,fdatasync', process.execPath, '-e', '0'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    process.stdout.write(`  durable-latency: skipped, strace cannot run here (${probe.error ? 'not installed: apt-get install strace' : (probe.stderr || '').trim().slice(0, 200)})\n`);
    return {};
  }
  const out: Record<string, number> = {};
  for (const ms of delays) {
    const r = await runUnderStrace(Math.round(ms * 1000), sizes);
    const k = `fsync_${String(ms).replace('.', '_')}ms`;
    out[`${k}.peer_fsync_messages_per_s`] = r.peer_fsync_scale_messages_per_s!;
    out[`${k}.gateway_scale_captures_per_s`] = r.gateway_scale_durable_captures_per_s!;
    out[`${k}.gateway_scale_items_per_commit`] = r.gateway_scale_items_per_commit!;
    out[`${k}.ratio_captures_vs_fsync_peer`] = r.ratio_gateway_captures_vs_fsync_peer_messages!;
    out[`${k}.gateway_values_records_per_s`] = r.gateway_values_durable_records_per_s!;
    out[`${k}.ratio_values_vs_fsync_peer`] = r.ratio_gateway_values_vs_fsync_peer!;
    out[`${k}.gateway_values_1000_per_s_ack_p99_ms`] = r.gateway_values_1000_per_s_ack_p99_ms!;
    out[`${k}.peer_fsync_1000_per_s_ack_p99_ms`] = r.peer_fsync_1000_per_s_ack_p99_ms!;
  }
  return out;
}
