/**
 * Issue 10.5 end to end: odd scale payloads published on a real broker (the embedded aedes, and our
 * own Mosquitto when installed) each become EXACTLY ONE record in the gateway's journal — accepted,
 * or rejected with their own code. Nothing silent, nothing counted twice.
 *
 * "Exactly one" without sleeping: the payloads of one scale arrive in order (one topic, QoS 1) and
 * are journaled in order, so after the last case a sentinel capture is published; once the
 * sentinel's record is in, every record the earlier payloads could produce is in too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { startTestGateway, seedReferenceLine, type TestGateway } from '../../helpers/gateway.js';
import { waitFor } from '../../helpers/net.js';
import { aedesBroker, hasMosquitto, mosquittoBroker, type TestBroker } from './brokers.js';

const ZERO = '{"weight":{"gross":0,"unit":"kg","stable":true}}';

function suite(name: string, make: () => Promise<TestBroker>, skip: boolean) {
  describe.skipIf(skip)(`10.5 scale payloads through ${name} into the journal`, () => {
    let broker: TestBroker;
    let t: TestGateway;
    let pub: mqtt.MqttClient;
    const jsonTopic = `it/p105/${process.pid}/${name}/json`;
    const asciiTopic = `it/p105/${process.pid}/${name}/ascii`;

    beforeAll(async () => {
      broker = await make();
      t = await startTestGateway({
        devices: [
          { id: 'pack.json', kind: 'mqtt-scale', station: 'PACK-1', profile: 'json-generic', broker: { url: broker.url, clientId: `gw-p105-json-${process.pid}` }, topic: jsonTopic },
          { id: 'pack.ascii', kind: 'mqtt-scale', station: 'PACK-1', profile: 'ascii-st-gs', broker: { url: broker.url, clientId: `gw-p105-ascii-${process.pid}` }, topic: asciiTopic },
        ],
      });
      const { batch } = await seedReferenceLine(t);
      expect((await t.call('POST', '/stations/PACK-1/scans', { data: batch })).body.record.status).toBe('accepted');
      await waitFor(() => ['pack.json', 'pack.ascii'].every((id) => t.gw.drivers.get(id)?.health().state === 'online'), 15_000, 50, 'scales online');
      pub = await mqtt.connectAsync(broker.url, { clientId: `p105-pub-${process.pid}-${name}` });
    }, 60_000);
    afterAll(async () => {
      await pub?.endAsync();
      await t?.stop();
      await broker?.close();
    });

    const recordsOf = async (device: string) => (await t.call('GET', `/records?device=${device}&type=weight.captured&limit=100`)).body.items as any[];
    const send = (topic: string, p: string | Buffer) => pub.publishAsync(topic, p, { qos: 1 });

    /** Publish each case (then an empty platform), then a sentinel; one record per case, in order. */
    async function exactlyOnePerCase(device: string, topic: string, cases: Array<string | Buffer>, zero: string, sentinel: string): Promise<any[]> {
      for (const c of cases) {
        await send(topic, c);
        await send(topic, zero);
      }
      await send(topic, sentinel);
      const items = await waitFor(async () => {
        const r = await recordsOf(device);
        return r.some((x) => x.raw === sentinel || x.payload?.raw === sentinel) ? r : null;
      }, 15_000, 50, `${device}: sentinel recorded`);
      const byTime = [...items].sort((a, b) => Number(a.seq ?? 0) - Number(b.seq ?? 0) || String(a.receivedAt).localeCompare(String(b.receivedAt)));
      expect(byTime).toHaveLength(cases.length + 1);
      expect(byTime.at(-1)).toMatchObject({ status: 'accepted', payload: { raw: sentinel } });
      return byTime.slice(0, -1);
    }

    it('10.5 ASCII: a line without a unit is refused LG_ERR_WEIGHT_UNIT_MISSING (not 12 kg); +00A1.250kg is a payload error', async () => {
      const [noUnit, broken] = await exactlyOnePerCase('pack.ascii', asciiTopic, ['ST,GS,+00000012', 'ST,GS,+00A1.250kg'], 'ST,GS,+0000.000kg', 'ST,GS,+0003.000kg');
      expect(noUnit).toMatchObject({ status: 'rejected', errorCode: 'LG_ERR_WEIGHT_UNIT_MISSING', payload: { raw: 'ST,GS,+00000012' } });
      expect(broken).toMatchObject({ status: 'rejected', errorCode: 'LG_ERR_WEIGHT_PAYLOAD', payload: { raw: 'ST,GS,+00A1.250kg' } });
    }, 60_000);

    it('10.5 JSON: lb on a kg profile, a UTF-8 BOM, -0.000 and a missing stable flag each give exactly one record', async () => {
      const lb = '{"weight":{"gross":2.5,"unit":"lb","stable":true}}';
      const bomJson = '{"weight":{"gross":1.250,"unit":"kg","stable":true}}';
      const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(bomJson)]);
      const negZero = '{"weight":{"gross":-0.000,"unit":"kg","stable":true}}';
      const noStable = '{"weight":{"gross":1.000,"unit":"kg"}}';
      const [a, b, c, d] = await exactlyOnePerCase('pack.json', jsonTopic, [lb, bom, negZero, noStable], ZERO, '{"weight":{"gross":3.000,"unit":"kg","stable":true}}');
      // 2.5 lb = 1.13398092 kg, converted exactly and rounded once to the profile's 1 g; the raw keeps the lb.
      expect(a).toMatchObject({ status: 'accepted', payload: { net: '1.134', unit: 'kg', raw: lb } });
      // The byte order mark is an encoding marker, not content: the weight is read.
      expect(b).toMatchObject({ status: 'accepted', payload: { net: '1.250', unit: 'kg' } });
      expect(b.payload.raw).toBe(`\uFEFF${bomJson}`);
      // A signed zero on the empty platform: the zero drifted below zero, recorded, nothing captured.
      expect(c).toMatchObject({ status: 'rejected', errorCode: 'LG_ERR_WEIGHT_BELOW_ZERO', payload: { raw: negZero } });
      // No stable flag and no software stability: it can never be judged stable — said so, once.
      expect(d).toMatchObject({ status: 'rejected', errorCode: 'LG_ERR_WEIGHT_STABILITY_UNKNOWN', payload: { raw: noStable } });
    }, 60_000);
  });
}

suite('aedes', aedesBroker, false);
suite('mosquitto', mosquittoBroker, !hasMosquitto);
