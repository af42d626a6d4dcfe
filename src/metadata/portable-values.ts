/**
 * Portable values live in core/portable-values.ts, where every layer can import them. This module
 * only forwards, for imports not yet moved there; new code imports core/portable-values.ts.
 */
export * from '../core/portable-values.js';
