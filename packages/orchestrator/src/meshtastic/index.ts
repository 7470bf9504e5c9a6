// The Meshtastic radio binding: @meshtastic/core's MeshDevice (GPL-3.0, an unmodified dependency) as a MeshLink.
export { MeshDeviceLink, type MeshDeviceLinkOptions, type DeviceTransport } from './meshdevice-link.js';
export { PathAdvisor, PRIVATE_PORT_DROPPING_ROLES, type RouterWarning } from './path-advisor.js';
export { ReconnectingMeshLink, type ReconnectingLinkOptions } from './reconnecting-link.js';
export { PortFallback, defaultFallbackPortnum } from './port-fallback.js';
