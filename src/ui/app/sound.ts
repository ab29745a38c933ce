/**
 * Good and bad tones, made with WebAudio (no sound files to ship). Good: two short high beeps;
 * bad: a long low buzz, three times — distinct enough to hear over the line without looking.
 * A kiosk browser must allow audio without a click (Chromium: --autoplay-policy=no-user-gesture-required);
 * otherwise the first touch on the page unlocks it.
 */
let ctx: AudioContext | null = null;

function audio(): AudioContext | null {
  try {
    ctx ??= new AudioContext();
    if (ctx.state === 'suspended') void ctx.resume();
    return ctx;
  } catch {
    return null;
  }
}

function tone(a: AudioContext, freq: number, start: number, dur: number, type: OscillatorType): void {
  const o = a.createOscillator();
  const g = a.createGain();
  o.type = type;
  o.frequency.value = freq;
  g.gain.setValueAtTime(0.0001, a.currentTime + start);
  g.gain.exponentialRampToValueAtTime(0.6, a.currentTime + start + 0.01);
  g.gain.exponentialRampToValueAtTime(0.0001, a.currentTime + start + dur);
  o.connect(g).connect(a.destination);
  o.start(a.currentTime + start);
  o.stop(a.currentTime + start + dur + 0.02);
}

export function playVerdict(good: boolean): void {
  const a = audio();
  if (!a) return;
  if (good) {
    tone(a, 1760, 0, 0.08, 'sine');
    tone(a, 2349, 0.11, 0.1, 'sine');
  } else {
    for (let i = 0; i < 3; i++) tone(a, 220, i * 0.28, 0.22, 'square');
  }
}

export function unlockAudio(): void {
  audio();
}
