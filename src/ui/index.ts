/** The web UI: `startUiServer` serves the built page and the JSON API over a repository. */
export { startUiServer, type UiServer, type UiServerOptions } from './server.js';
