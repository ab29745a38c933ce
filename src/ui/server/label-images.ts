/** The label renderer moved to src/labels/images.ts (shared with the batch record report). */
export { labelPng } from '../../labels/images.js';
