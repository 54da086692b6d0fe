export * from './backend.js';
export * from './engine.js';
