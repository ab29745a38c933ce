import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { canonicalStateName, composeStates, mapStateValue, tr88Number } from '../../../src/readings/packml.js';
import { loadNodeMap, resolveNodeMap } from '../../../src/drivers/opcua/nodemap.js';
import { convertValue, selectPath } from '../../../src/drivers/opcua/values.js';
import { LgError } from '../../../src/errors.js';

const devicesDir = join(import.meta.dirname, '..', '..', '..', 'devices');

describe('PackML states by name', () => {
  it('canonicalises spellings PLCs use', () => {
    expect(canonicalStateName('EXECUTE')).toBe('Execute');
    expect(canonicalStateName('Un-suspending')).toBe('Unsuspending');
    expect(canonicalStateName('un_holding')).toBe('Unholding');
    expect(canonicalStateName('ExecuteState')).toBe('Execute');
    expect(canonicalStateName('Producing')).toBeUndefined();
  });

  it('TR88 and OPC 30060 numberings differ and both come from the map files', () => {
    const generic = loadNodeMap(devicesDir, 'packml-generic', 'd1');
    const state = generic.fields.find((f) => f.field === 'state')!;
    expect(mapStateValue(6, state.stateTable)).toBe('Execute');
    expect(mapStateValue(11, state.stateTable)).toBe('Held');
    expect(mapStateValue(17, state.stateTable)).toBe('Complete');
    expect(mapStateValue(0, state.stateTable)).toBeUndefined(); // Undefined is not a state
    expect(mapStateValue('Execute', state.stateTable)).toBe('Execute');
    expect(mapStateValue({ text: 'Held', locale: 'en' }, state.stateTable)).toBe('Held');

    // The same file's opc30060 table, selected by stateNumbering: Execute is 4 there.
    const tmc = resolveNodeMap(
      { name: 'tmc', fields: { state: { kind: 'state', nodeId: 'ns=2;s=S', stateNumbering: 'opc30060' } }, stateTables: { opc30060: { 0: 'Stopped', 4: 'Execute', 15: 'Held' } } },
    ).fields[0]!;
    expect(mapStateValue(4, tmc.stateTable)).toBe('Execute');
    expect(mapStateValue(6, tmc.stateTable)).toBeUndefined();
    expect(mapStateValue(15, tmc.stateTable)).toBe('Held');
    for (const name of ['Execute', 'Held', 'Complete', 'Aborted']) expect(mapStateValue(tr88Number(name)!, state.stateTable)).toBe(name);
  });

  it('composes OPC 30050 nested state machines top-down, skipping superstates', () => {
    const supers = new Set(['Cleared', 'Running']);
    expect(composeStates(['Cleared', 'Running', 'Execute'], supers)).toBe('Execute');
    expect(composeStates(['Cleared', 'Stopped', 'Execute'], supers)).toBe('Stopped');
    expect(composeStates(['Aborted', 'Running', 'Execute'], supers)).toBe('Aborted');
    expect(composeStates(['Cleared', undefined, 'Idle'], supers)).toBeUndefined();
  });
});

describe('node maps', () => {
  it('resolves parameters and per-device overrides', () => {
    const m = loadNodeMap(devicesDir, 'opc30050-packml', 'd1', { mapParameters: { machine: 'CAP2' }, nodes: { speed: { nodeId: 'ns=4;s=Speed' } } });
    const state = m.fields.find((f) => f.field === 'state')!;
    expect(state.locations).toHaveLength(3);
    expect(state.locations[2]!.browsePath).toBe('/packml:PackMLObjects/vendor:CAP2/packml:BaseStateMachine/packml:MachineState/packml:ExecuteState/CurrentState');
    expect(m.fields.find((f) => f.field === 'speed')!.locations).toEqual([{ nodeId: 'ns=4;s=Speed' }]);
    expect(m.fields.find((f) => f.field === 'goodCount')!.locations[0]!.select).toBe('0.count');
  });

  it('reports a broken or missing map as LG_ERR_DEVICE_PROFILE', () => {
    expect(() => loadNodeMap(devicesDir, 'no-such-map', 'd1')).toThrowError(LgError);
    try {
      loadNodeMap(devicesDir, 'packml-generic', 'd1', { nodes: { nosuch: { nodeId: 'ns=1;s=x' } } });
      expect.unreachable();
    } catch (e) {
      expect((e as LgError).code).toBe('LG_ERR_DEVICE_PROFILE');
    }
    expect(() => resolveNodeMap({ name: 'x', fields: { state: { kind: 'state', nodeId: 'ns=1;s=a', stateNumbering: 'nope' } } })).toThrow(/no state table/);
    expect(() => resolveNodeMap({ name: 'x', fields: {}, stateTables: { t: { 1: 'Producing' } } })).not.toThrow();
    expect(() => resolveNodeMap({ name: 'x', fields: { state: { kind: 'state', nodeId: 'a', stateNumbering: 't' } }, stateTables: { t: { 1: 'Producing' } } })).toThrow(/not a PackML state/);
  });
});

describe('value conversion', () => {
  const field = (kind: 'counter' | 'analog' | 'enum', extra = {}) => ({ field: 'f', kind, locations: [], ...extra });
  it('reads counters as exact unsigned decimal text', () => {
    expect(convertValue(field('counter'), 4294967295, 'UInt32')).toMatchObject({ ok: true, value: '4294967295', meta: { counterBits: 32 } });
    expect(convertValue(field('counter'), -1, 'Int32')).toMatchObject({ ok: true, value: '4294967295' });
    expect(convertValue(field('counter'), 65535, 'UInt16')).toMatchObject({ ok: true, value: '65535', meta: { counterBits: 16 } });
    expect(convertValue(field('counter'), [1, 5], 'UInt64')).toMatchObject({ ok: true, value: String(2 ** 32 + 5), meta: { counterBits: 64 } });
    expect(convertValue(field('counter'), 'abc', 'String')).toMatchObject({ ok: false, code: 'LG_ERR_READING_INVALID' });
    expect(convertValue(field('counter'), 2.5, 'Double')).toMatchObject({ ok: false });
  });
  it('maps enums and refuses non-numbers for analog values', () => {
    const m = new Map([[1, 'Production']]);
    expect(convertValue(field('enum', { enumValues: m }), 1)).toMatchObject({ ok: true, value: 'Production', meta: { raw: 1 } });
    expect(convertValue(field('enum', { enumValues: m }), 9)).toMatchObject({ ok: true, value: '#9' });
    expect(convertValue(field('analog'), Number.NaN)).toMatchObject({ ok: false });
    expect(convertValue(field('analog'), 120.5)).toMatchObject({ ok: true, value: 120.5 });
  });
  it('selects into decoded structures', () => {
    expect(selectPath([{ ID: 1, count: 7 }], '0.count')).toBe(7);
    expect(selectPath([{ ID: 1, count: 7 }], '0.Count')).toBe(7);
    expect(selectPath({ ID: 12, message: 'jam' }, 'ID')).toBe(12);
    expect(selectPath(null, '0.count')).toBeUndefined();
  });
});
