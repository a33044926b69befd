export { startPanosEmulator, type ChannelRequests, type PanosEmulator } from './server.js';
export { scenario, tunnel, type PanosScenario, type EmulatedTunnel, type EmulatedGpUser, type PanosFaults } from './scenario.js';
export { gatewayOf } from './render.js';
export { GLOBALPROTECT_USERS, NO_GLOBALPROTECT_ERROR, SCENARIOS, SIXTY_CHAR_TUNNEL_NAME, VPN_FLOW_ERROR } from './scenarios.js';
export { startPanosApiEmulator, type PanosApiEmulator } from './api-server.js';
