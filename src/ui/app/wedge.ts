/**
 * Keyboard-wedge scanners type the code as a fast burst of keystrokes ending in Enter. A burst
 * is a scan when every key followed the previous one within `maxKeyIntervalMs` and it has at
 * least `minLength` characters. Keys typed into a form field (input, textarea, select,
 * contenteditable) are never a scan: they belong to the field. People type slower than ~80 ms
 * per key; scanners send a key every 1–20 ms.
 */
export interface WedgeOptions {
  maxKeyIntervalMs: number;
  minLength: number;
  onScan(text: string): void;
  now?: () => number;
}

export function isFormField(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  if (!el || !el.tagName) return false;
  const tag = el.tagName.toLowerCase();
  return tag === 'input' || tag === 'textarea' || tag === 'select' || el.isContentEditable === true;
}

export function attachWedge(target: Document, o: WedgeOptions): () => void {
  const now = o.now ?? (() => performance.now());
  let buf = '';
  let last = 0;
  const onKey = (e: KeyboardEvent): void => {
    if (isFormField(e.target)) {
      buf = '';
      return;
    }
    // The event's own time stamp, not the time it is handled: on a busy panel queued key events
    // keep their real spacing, so a burst is still recognised as a scan.
    const t = o.now ? o.now() : e.timeStamp || now();
    if (buf && t - last > o.maxKeyIntervalMs) buf = '';
    last = t;
    if (e.key === 'Enter') {
      const text = buf;
      buf = '';
      if (text.length >= o.minLength) {
        e.preventDefault();
        o.onScan(text);
      }
      return;
    }
    if (e.key.length === 1 && !e.ctrlKey && !e.metaKey && !e.altKey) {
      buf += e.key;
      // A scan must not scroll the page or trigger a focused button (space).
      if (buf.length > 1) e.preventDefault();
    } else if (e.key !== 'Shift') {
      buf = '';
    }
  };
  target.addEventListener('keydown', onKey, true);
  return () => target.removeEventListener('keydown', onKey, true);
}
