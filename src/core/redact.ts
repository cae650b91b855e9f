/** What a secret is replaced with. */
export const REDACTED = '[redacted]';

/**
 * `scheme://` followed by the authority: everything up to the first `/`, `?` or `#`, and, as the
 * URL may sit inside other text, up to whitespace or a quote.
 */
const URL_START = /\b[a-z][a-z0-9+.-]*:\/\/([^/?#\s"'<>]*)/gi;
const PASSWORD_PARAM = /[?&]password=([^&#\s]*)/gi;

/**
 * The URL without its password, whether in the user-info (`postgres://app:pw@db/app`) or in a
 * `password=` query parameter; user, host, port, path and the other parameters are kept as
 * written. Text that is not a URL comes back unchanged.
 */
export function redactUrl(url: string): string {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/is.exec(url);
  if (!match) return url;
  const [, scheme = '', authority = '', rest = ''] = match;
  return scheme + withoutPassword(authority) + withoutPasswordParam(rest);
}

/**
 * A value that should be a URL, safe for a message: the URL without its password, or, when it is
 * not a URL at all, only its length — it may be a secret put in the wrong place.
 */
export function describeUrlValue(value: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value)
    ? redactUrl(value)
    : `a value that is not a URL (${value.length} characters, not shown)`;
}

function withoutPassword(authority: string): string {
  // The last `@` ends the user-info, as in WHATWG URL parsing: an unescaped `@` in a password
  // must not leave the rest of the password in view.
  const at = authority.lastIndexOf('@');
  if (at < 0) return authority;
  const userInfo = authority.slice(0, at);
  const colon = userInfo.indexOf(':');
  return colon < 0 ? authority : userInfo.slice(0, colon) + authority.slice(at);
}

function withoutPasswordParam(rest: string): string {
  const queryStart = rest.indexOf('?');
  if (queryStart < 0) return rest;
  const hashStart = rest.indexOf('#', queryStart);
  const queryEnd = hashStart < 0 ? rest.length : hashStart;
  const params = rest
    .slice(queryStart + 1, queryEnd)
    .split('&')
    .filter((param) => !/^password=/i.test(param));
  const query = params.length ? `?${params.join('&')}` : '';
  return rest.slice(0, queryStart) + query + rest.slice(queryEnd);
}

/**
 * Every password found in URLs inside `text` (user-info or a `password=` parameter), both as
 * written and percent-decoded, since either form can end up in a log line.
 */
export function findUrlPasswords(text: string): string[] {
  const found = new Set<string>();
  const add = (raw: string): void => {
    if (!raw) return;
    found.add(raw);
    try {
      found.add(decodeURIComponent(raw));
    } catch {
      // Not valid percent-encoding: the raw form is all there is.
    }
  };
  for (const [, authority = ''] of text.matchAll(URL_START)) {
    const at = authority.lastIndexOf('@');
    if (at < 0) continue;
    const userInfo = authority.slice(0, at);
    const colon = userInfo.indexOf(':');
    if (colon >= 0) add(userInfo.slice(colon + 1));
  }
  for (const [, value = ''] of text.matchAll(PASSWORD_PARAM)) add(value);
  return [...found];
}

/**
 * `text` with every occurrence of every secret replaced by `[redacted]`. Longer secrets go
 * first, so a secret that contains another is hidden whole. Each secret is also looked for in
 * its JSON-escaped form, because log lines are JSON and a secret holding `"` or `\` appears
 * escaped there.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (!secret) continue;
    forms.add(secret);
    forms.add(JSON.stringify(secret).slice(1, -1));
  }
  let result = text;
  for (const form of [...forms].sort((a, b) => b.length - a.length)) {
    result = result.split(form).join(REDACTED);
  }
  return result;
}

/**
 * `text` with the password of every URL in it removed (see `redactUrl`), wherever the URLs
 * stand: log lines and error messages quote connection strings.
 */
export function redactUrlsIn(text: string): string {
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]*/gi, (url) => redactUrl(url));
}

/**
 * URL passwords this long or longer are also redacted wherever they appear, not only inside
 * URLs. Shorter ones are not: a password like `postgres` would erase every mention of the word.
 */
export const MIN_LITERAL_URL_PASSWORD = 12;
