export { startPanosEmulator, type ChannelRequests, type PanosEmulator } from './server.js';
export { scenario, tunnel, type PanosScenario, type EmulatedTunnel, type PanosFaults } from './scenario.js';
export { SCENARIOS, SIXTY_CHAR_TUNNEL_NAME, VPN_FLOW_ERROR } from './scenarios.js';
