import type { Args, Figures } from './rig.js';

export async function clockJump(_args: Args): Promise<Figures> {
  throw new Error('not built yet');
}
