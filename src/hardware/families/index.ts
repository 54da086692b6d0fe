/** Registers every family adapter (one file per family; add yours below). */
import './hopfield.js';
import './equilibrium-prop.js';
import './lca.js';

export { hardwareAdapters } from '../adapter.js';
