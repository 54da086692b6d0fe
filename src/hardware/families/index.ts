/** Registers every family adapter (one file per family; add yours below). */
import './hopfield.js';

export { familyAdapters } from '../families.js';
