/**
 * Syntax highlighting with highlight.js core and the few languages backups hold (SQL dumps above all).
 * highlight.js escapes the text it is given; its output is the only HTML this app ever inserts.
 */
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import ini from 'highlight.js/lib/languages/ini';
import json from 'highlight.js/lib/languages/json';
import nginx from 'highlight.js/lib/languages/nginx';
import plaintext from 'highlight.js/lib/languages/plaintext';
import sql from 'highlight.js/lib/languages/sql';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';
import 'highlight.js/styles/github.css';

hljs.registerLanguage('sql', sql);
hljs.registerLanguage('json', json);
hljs.registerLanguage('ini', ini);
hljs.registerLanguage('bash', bash);
hljs.registerLanguage('xml', xml);
hljs.registerLanguage('yaml', yaml);
hljs.registerLanguage('nginx', nginx);
hljs.registerLanguage('plaintext', plaintext);

const BY_SUFFIX: [RegExp, string][] = [
  [/\.sql$/i, 'sql'],
  [/\.json$/i, 'json'],
  [/\.(cnf|ini|conf|cfg)$/i, 'ini'],
  [/(^|\/)nginx\.conf$|\/nginx\/.*\.conf$/i, 'nginx'],
  [/\.(sh|bash)$/i, 'bash'],
  [/\.(xml|html?|svg)$/i, 'xml'],
  [/\.ya?ml$/i, 'yaml'],
];

/** The language for a file name, with compression suffixes taken off first. */
export function languageOf(name: string): string {
  const plain = name.replace(/\.(gz|zst|lz4)$/i, '');
  for (const [re, lang] of BY_SUFFIX) if (re.test(plain)) return lang;
  return /^\s*(--|CREATE|INSERT|SET|DROP|\/\*!)/i.test(plain) ? 'sql' : 'plaintext';
}

export function highlighted(text: string, language: string): string {
  return hljs.highlight(text, { language, ignoreIllegals: true }).value;
}

export function Code({ text, language }: { text: string; language: string }) {
  return (
    <pre class="code">
      <code class={`hljs language-${language}`} data-language={language} dangerouslySetInnerHTML={{ __html: highlighted(text, language) }} />
    </pre>
  );
}
