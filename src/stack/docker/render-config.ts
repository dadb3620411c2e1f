import { configurationError } from '../../harness-error.js';

const TOKEN = /\{\{\s*([a-zA-Z0-9_.]+)\s*\}\}/g;

/**
 * Fills `{{name}}` tokens of a stacks/ config template. An unknown token or an unused value is an error,
 * so a template and its stack definition cannot drift apart silently.
 */
export function renderTemplate(
  template: string,
  values: Readonly<Record<string, string>>,
  templateName: string,
  options: { allowUnused?: boolean } = {},
): string {
  const used = new Set<string>();
  const rendered = template.replace(TOKEN, (_match, name: string) => {
    const value = values[name];
    if (value === undefined) throw configurationError(`${templateName} token {{${name}}}`, 'a known value', 'unknown');
    used.add(name);
    return value;
  });
  const unused = Object.keys(values).filter((k) => !used.has(k));
  if (unused.length > 0 && options.allowUnused !== true) {
    throw configurationError(`${templateName} values`, 'every value to be used by the template', unused.join(', '));
  }
  return rendered;
}
