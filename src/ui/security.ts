/**
 * The web UI's guards: a random token every API request must carry (bearer header or the cookie the page
 * sets from the URL fragment), a Host header that must name the address the server listens on (so a
 * DNS-rebinding page cannot reach it through a name it controls), and safe download names.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { hostname } from 'node:os';

export const TOKEN_COOKIE = 'sluice_ui_token';

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

function sameToken(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The token from `Authorization: Bearer …` or the cookie. */
export function hasToken(headers: { authorization?: string | undefined; cookie?: string | undefined }, token: string): boolean {
  const auth = headers.authorization;
  if (auth !== undefined && auth.startsWith('Bearer ') && sameToken(auth.slice(7).trim(), token)) return true;
  const cookie = cookieValue(headers.cookie, TOKEN_COOKIE);
  return cookie !== undefined && sameToken(cookie, token);
}

const WILDCARD = new Set(['0.0.0.0', '::', '']);
const IP_LITERAL = /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\])$/;

/**
 * The Host header values the server answers: the listen address (and `localhost` for a loopback one).
 * A server listening on every address also answers IP literals and this machine's name.
 */
export function hostChecker(listenHost: string, port: number): (host: string | undefined) => boolean {
  const bracket = (h: string) => (h.includes(':') && !h.startsWith('[') ? `[${h}]` : h);
  const allowed = new Set<string>([`${bracket(listenHost)}:${port}`.toLowerCase()]);
  if (listenHost === '127.0.0.1' || listenHost === '::1' || listenHost === 'localhost') {
    for (const h of ['127.0.0.1', '[::1]', 'localhost']) allowed.add(`${h}:${port}`);
  }
  const wildcard = WILDCARD.has(listenHost);
  if (wildcard) allowed.add(`${hostname()}:${port}`.toLowerCase());
  return (host) => {
    if (host === undefined) return false;
    const h = host.toLowerCase();
    if (allowed.has(h)) return true;
    if (!wildcard) return false;
    const colon = h.lastIndexOf(':');
    return colon > 0 && h.slice(colon + 1) === String(port) && IP_LITERAL.test(h.slice(0, colon));
  };
}

/** `attachment` with an ASCII fallback name and the exact name in RFC 5987 form; no quotes or controls pass. */
export function contentDisposition(name: string, inline = false): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\%;]/g, '_') || 'download';
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${inline ? 'inline' : 'attachment'}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
