// What the packages' README examples take from the reader's own app, declared so that
// scripts/consumer-test.mjs can type-check those examples (it writes them under readme/).
declare global {
  namespace Express {
    interface Request {
      user?: { id: string; email: string };
    }
  }
  function currentUser(request: Request): Promise<{ id: string; email: string } | null>;
}

export {};
