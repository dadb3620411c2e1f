import { isMap, isScalar, isSeq, parseDocument } from 'yaml';

/** Keys whose values are credentials in collector configurations (auth extensions, TLS keys, exporters' API keys). */
const SECRET_KEY =
  /^(?:[\w-]*[_-])?(?:token|password|passwd|htpasswd|secret|api_?key|key_pem|client_key|authorization|credentials?)$/i;

export const NOT_SHOWN = '(not shown)';

/**
 * A collector configuration as the harness may write it down (the replay a later `verify` reads): every
 * value under a credential-like key, and every header value, replaced by "(not shown)". What the sampling
 * prediction reads (processors, policies, pipelines) is kept. A configuration that does not parse is not
 * written at all.
 */
export function withoutSecrets(config: string): string {
  const doc = parseDocument(config);
  if (doc.errors.length > 0) return `# ${NOT_SHOWN}: the configuration did not parse\n`;
  const walk = (node: unknown, hide: boolean): void => {
    if (isMap(node))
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : '';
        const secret = hide || SECRET_KEY.test(key) || key === 'headers';
        if (secret && isScalar(pair.value)) pair.value = doc.createNode(NOT_SHOWN);
        else walk(pair.value, secret);
      }
    else if (isSeq(node))
      node.items.forEach((item, i) => {
        if (hide && isScalar(item)) node.items[i] = doc.createNode(NOT_SHOWN);
        else walk(item, hide);
      });
  };
  walk(doc.contents, false);
  return doc.toString();
}
