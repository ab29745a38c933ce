import { describe, expect, it } from 'vitest';
import { OfficeSessions, cookieValue } from '../../../src/api/sessions.js';

/** Sessions of the supervisor/QA pages: idle timeout, absolute lifetime, sign-out, disabled users, current role. */
describe('office page sessions', () => {
  const users = new Map<string, { id: string; name: string; role: 'qa' | 'operator'; badge: null; disabled: boolean }>([
    ['qa1', { id: 'qa1', name: 'Quinn', role: 'qa', badge: null, disabled: false }],
  ]);
  const repo = { userById: (id: string) => users.get(id) } as never;
  const make = () => {
    let now = Date.parse('2026-12-01T08:00:00Z');
    const s = new OfficeSessions(repo, { idleSeconds: 900, maxSeconds: 3600, now: () => now });
    return { s, advance: (ms: number) => (now += ms) };
  };

  it('a token resolves to the user with the current role; unknown and non-session tokens do not', () => {
    const { s } = make();
    const { token } = s.create('qa1');
    expect(token.startsWith('lgo_')).toBe(true);
    const r = s.resolve(token, true);
    expect(r && 'user' in r && r.user).toMatchObject({ id: 'qa1', role: 'qa' });
    expect(s.resolve('lgo_nope', true)).toBeNull();
    expect(s.resolve('an-api-token', true)).toBeNull();
    users.get('qa1')!.role = 'operator';
    const r2 = s.resolve(token, true);
    expect(r2 && 'user' in r2 && r2.user.role).toBe('operator');
    users.get('qa1')!.role = 'qa';
  });

  it('ends after the idle time without activity; background calls do not keep it alive, activity does', () => {
    const { s, advance } = make();
    const { token } = s.create('qa1');
    advance(600_000);
    expect(s.resolve(token, true)).toMatchObject({ user: { id: 'qa1' } });
    advance(600_000); // 10 min since the last activity
    expect(s.resolve(token, false)).toMatchObject({ user: { id: 'qa1' } }); // background: no touch
    advance(400_000); // 16 min 40 s since the last activity
    expect(s.resolve(token, true)).toEqual({ ended: 'no activity for 15 min' });
    expect(s.active()).toBe(0);
  });

  it('ends at the absolute lifetime even with activity, at sign-out at once, and when the user is disabled', () => {
    const { s, advance } = make();
    const a = s.create('qa1');
    for (let i = 0; i < 8; i++) {
      advance(500_000);
      s.resolve(a.token, true);
    }
    expect(s.resolve(a.token, true)).toEqual({ ended: 'signed in for more than 1 h' });
    const b = s.create('qa1');
    expect(s.signOut(b.token)).toBe('qa1');
    expect(s.resolve(b.token, true)).toEqual({ ended: 'signed out' });
    expect(s.signOut(b.token)).toBeNull();
    const c = s.create('qa1');
    users.get('qa1')!.disabled = true;
    expect(s.resolve(c.token, true)).toEqual({ ended: 'the user was disabled' });
    users.get('qa1')!.disabled = false;
    expect(s.resolve(c.token, true)).toEqual({ ended: 'the user was disabled' });
  });

  it('reads one cookie from a Cookie header', () => {
    expect(cookieValue('a=1; lg_office=lgo_x%2By; b=2', 'lg_office')).toBe('lgo_x+y');
    expect(cookieValue('a=1', 'lg_office')).toBeNull();
    expect(cookieValue(undefined, 'lg_office')).toBeNull();
  });
});
