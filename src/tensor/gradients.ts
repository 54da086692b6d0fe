/**
 * tfjs-core registers the gradients of its ops only when this module is imported (the umbrella
 * `@tensorflow/tfjs` package does it for its users); everything here that differentiates needs them.
 */
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
