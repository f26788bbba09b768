import { type OfferedFactor, recoveryCodes, totp, webauthn } from "@stepup/core";

/** The shipped plugins, for their declarations (`ui`). */
const PLUGINS = {
  totp: totp(),
  recovery: recoveryCodes(),
  webauthn: webauthn({ rpID: "localhost", origins: ["http://localhost:3000"] }),
};

type Shipped = keyof typeof PLUGINS;

/** A factor as a challenge offers it, with the shipped plugin's title and prompt. */
export function offered(
  f: { id: string; type: Shipped; name: string; primary: boolean } & Partial<OfferedFactor>,
): OfferedFactor {
  const plugin = PLUGINS[f.type];
  return {
    title: plugin.ui.title,
    prompt: plugin.ui.prompt,
    ...(plugin.recovery ? { recovery: true as const } : {}),
    ...f,
  };
}

/** The console's methods for the shipped plugins (what the console routes read from the config). */
export function consoleMethods(types: readonly Shipped[] = ["totp"]) {
  return types.flatMap((t) => {
    const { ui } = PLUGINS[t];
    if (!ui.enroll) return [];
    return [
      {
        type: t,
        title: ui.title,
        enroll: ui.enroll,
        ...(ui.prompt.kind === "code" ? { prompt: ui.prompt } : {}),
      },
    ];
  });
}
