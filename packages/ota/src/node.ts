// Node-only storage (never imported by the browser path).
export { FileFlash } from './storage/file-flash.js';
