type Attrs = Record<string, string | boolean | undefined>;
type Child = Node | string | false | null | undefined;

/**
 * Builds an element: attributes as strings (`true` = present, `false`/`undefined` = absent), text
 * children as text nodes. No innerHTML anywhere, so server strings can never become markup.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === true) el.setAttribute(name, "");
    else if (typeof value === "string") el.setAttribute(name, value);
  }
  for (const child of children) {
    if (child) el.append(child);
  }
  return el;
}

let counter = 0;
/** A document-unique id for label/aria wiring. */
export function uid(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** Installs a constructed stylesheet once (allowed under a nonce-only `style-src`, unlike `<style>`). */
export function adoptStyles(key: string, css: string): void {
  const doc = document as Document & { [k: symbol]: boolean };
  const mark = Symbol.for(`stepup.styles.${key}`);
  if (doc[mark]) return;
  doc[mark] = true;
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  } catch {
    // Old browsers: the modal still works unstyled (native <dialog> look).
  }
}
