/** The minified page bundle (`dist/stepup.js`) as a string, for servers that are bundled themselves. */
export declare const source: string;
