// Browser stand-ins for the three Node built-ins @meshtastic/core's logger imports
// (its npm build bundles a Node logger). Only what that logger calls is provided.
export function hostname(): string {
  return 'browser';
}
export default { hostname };
