import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpecError } from '../../src/base/errors.js';
import { parseProfile, profileJsonSchema } from '../../src/hardware/profile.js';
import { builtinProfileDir, listProfiles, loadProfile, PROFILE_SCHEMA_FILE } from '../../src/hardware/profiles.js';

const dir = builtinProfileDir();
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json') && f !== PROFILE_SCHEMA_FILE);

describe('hardware profiles', () => {
  it('ships the targets the issue asks for', () => {
    const ids = listProfiles().map((p) => p.id);
    for (const id of ['loihi', 'loihi2', 'truenorth', 'spinnaker', 'spinnaker2', 'akida', 'cpu-horowitz-45nm', 'cpu-i7-4960x', 'gpu-titan-black', 'arm-cortex-a', 'gpu-a100']) expect(ids).toContain(id);
  });

  it.each(files)('%s validates, names its sources and converts every figure to SI', (file) => {
    const raw = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    const profile = parseProfile(raw, file);
    const figures = [...Object.values(profile.energy), ...Object.values(profile.timing), ...Object.values(profile.capacity)];
    expect(figures.length).toBeGreaterThan(0);
    for (const q of figures) {
      expect(Number.isFinite(q!.si)).toBe(true);
      expect(profile.sources[q!.source]).toBeTruthy();
    }
    // A dense device needs a MAC energy; an event-driven one a synaptic-op energy.
    if (profile.energyModel === 'dense') expect(profile.energy.mac).toBeDefined();
    else expect(profile.energy.synapticOp).toBeDefined();
  });

  it('reads units: 23.6 pJ is 2.36e-11 J, 1 ms is 1e-3 s, 128 KiB is 131072 bytes', () => {
    const loihi = loadProfile('loihi');
    expect(loihi.energy.synapticOp!.si).toBeCloseTo(23.6e-12, 20);
    expect(loihi.capacity.memoryPerCore!.si).toBe(131072);
    expect(loadProfile('truenorth').timing.timestep!.si).toBeCloseTo(1e-3, 15);
  });

  it('the exported JSON Schema is the one in hardware-profiles/', () => {
    const onDisk = JSON.parse(fs.readFileSync(path.join(dir, PROFILE_SCHEMA_FILE), 'utf8'));
    expect(onDisk).toEqual(JSON.parse(JSON.stringify(profileJsonSchema())));
  });

  it('accepts a user-dropped profile file by path', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'profile-'));
    const raw = JSON.parse(fs.readFileSync(path.join(dir, 'loihi.json'), 'utf8'));
    const file = path.join(tmp, 'my-chip.json');
    fs.writeFileSync(file, JSON.stringify({ ...raw, id: 'my-chip', name: 'My chip' }));
    expect(loadProfile(file).name).toBe('My chip');
    fs.rmSync(tmp, { recursive: true });
  });

  it('rejects a figure of the wrong dimension, a bare number where a unit is needed, and an unknown source, naming the field', () => {
    const raw = JSON.parse(fs.readFileSync(path.join(dir, 'loihi.json'), 'utf8'));
    const withEnergy = (q: unknown) => ({ ...raw, energy: { ...raw.energy, synapticOp: q } });
    expect(() => parseProfile(withEnergy({ value: '3.5 ns', status: 'published', source: 'davies2018' }), 'x.json')).toThrow(/energy\.synapticOp\.value.*not a quantity of energy/);
    expect(() => parseProfile(withEnergy({ value: 23.6, status: 'published', source: 'davies2018' }), 'x.json')).toThrow(/needs a unit of energy/);
    expect(() => parseProfile(withEnergy({ value: '23.6 pJ', status: 'published', source: 'nobody' }), 'x.json')).toThrow(/"nobody" is not a key of sources/);
    expect(() => parseProfile(withEnergy({ value: '23.6 pJ', status: 'guess', source: 'davies2018' }), 'x.json')).toThrow(SpecError);
    expect(() => parseProfile({ ...raw, energy: { ...raw.energy, synapticOpp: raw.energy.synapticOp } }, 'x.json')).toThrow(/energy/);
  });

  it('an unknown profile name lists the known ones', () => {
    expect(() => loadProfile('loihi3')).toThrow(/unknown hardware profile "loihi3"; registered: .*"loihi2"/);
  });
});
