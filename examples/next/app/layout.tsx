import { DEMO_CSS } from "@stepup/example-shared";
import type { ReactNode } from "react";

export const metadata = { title: "stepup demo (Next.js)" };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <head>
        {/* A constant stylesheet of the demo's own (no data in it): the same tokens as stepup's pages. */}
        {/* biome-ignore lint/security/noDangerouslySetInnerHtml: a constant, so nothing untrusted reaches it */}
        <style dangerouslySetInnerHTML={{ __html: DEMO_CSS }} />
      </head>
      <body>
        <div className="shell">
          <p className="brand">Stepup demo (Next.js)</p>
          <main>{children}</main>
        </div>
      </body>
    </html>
  );
}
