import type { Args, Figures } from './rig.js';

export async function kill9(_args: Args): Promise<Figures> {
  throw new Error('not built yet');
}
