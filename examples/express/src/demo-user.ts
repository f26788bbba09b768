declare global {
  namespace Express {
    interface Request {
      /** Set by the demo's toy login: it stands for "your existing auth". */
      user?: { id: string; email: string };
    }
  }
}

export {};
