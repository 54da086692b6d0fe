/**
 * Named registries: systems, integrators, datasets, attacks, profiles and exporters are looked up by the
 * name a spec uses. Registering a name twice is an error (not a silent override), and looking up an
 * unknown name lists the registered ones.
 */
import { UnknownNameError } from '../base/errors.js';

export interface Registry<T> {
  readonly what: string;
  register(name: string, item: T): void;
  get(name: string, path?: string): T;
  has(name: string): boolean;
  names(): readonly string[];
}

export function createRegistry<T>(what: string): Registry<T> {
  const items = new Map<string, T>();
  return Object.freeze({
    what,
    register(name: string, item: T) {
      if (items.has(name)) throw new Error(`${what} ${JSON.stringify(name)} is already registered`);
      items.set(name, item);
    },
    get(name: string, path = '') {
      const item = items.get(name);
      if (item === undefined) throw new UnknownNameError(path, what, name, [...items.keys()]);
      return item;
    },
    has: (name: string) => items.has(name),
    names: () => [...items.keys()],
  });
}
