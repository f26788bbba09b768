import { IncomingMessage } from "node:http";
import type { StepUpInfo } from "@stepup/http";

/**
 * `req.stepUp` without adding a property to each request.
 *
 * Express switches every request's prototype to its app's (`Object.setPrototypeOf`), which gives
 * each request a hidden class (V8 map) of its own: a property added to `req` after that makes V8
 * build a new map and copy the object's descriptors, on every request. Measured on the guard's hot
 * path: ~34,000 instructions per request, about 5 % of the whole server's work, more than the rest
 * of stepup's code on that path. So `stepUp` is an accessor on Express's request prototype (the
 * extension point Express documents as `express.request`), as Express's own `req.query` and `req.ip`
 * are, over a WeakMap keyed by the request: `req.stepUp` reads and assigns as before, but it is not
 * an own property (`Object.keys(req)` does not list it).
 *
 * The accessor goes on the prototype that every app of an Express copy shares (the one just above
 * `http.IncomingMessage.prototype`), so a handler in a mounted sub-app, whose requests have that
 * sub-app's prototype, reads it too. Where that is not possible (a request object not from Node's
 * HTTP server, another `stepUp` found first on the chain, e.g. a second copy of this package's
 * accessor), and for a request that already has an own `stepUp`, it is a plain property.
 */
const infos = new WeakMap<object, StepUpInfo | undefined>();

const accessor = {
  configurable: true,
  enumerable: false,
  get(this: object): StepUpInfo | undefined {
    return infos.get(this);
  },
  set(this: object, value: StepUpInfo | undefined) {
    infos.set(this, value);
  },
} satisfies PropertyDescriptor;

/** Per prototype seen: whether `stepUp` on its requests is this accessor. */
const viaAccessor = new WeakMap<object, boolean>();

/** Whether requests with this prototype read `stepUp` through this module's accessor (installs it where it can). */
function accessorFor(proto: object): boolean {
  let found: boolean | undefined = viaAccessor.get(proto);
  if (found === undefined) {
    found = install(proto);
    viaAccessor.set(proto, found);
  }
  return found;
}

function install(proto: object): boolean {
  // The first object on the chain that has `stepUp` decides what `req.stepUp` is.
  let base: object | undefined;
  for (
    let p: object | null = proto;
    p !== null && p !== IncomingMessage.prototype;
    p = Object.getPrototypeOf(p)
  ) {
    const own = Object.getOwnPropertyDescriptor(p, "stepUp");
    if (own !== undefined) return own.get === accessor.get;
    if (Object.getPrototypeOf(p) === IncomingMessage.prototype) base = p;
  }
  if (base === undefined) return false;
  Object.defineProperty(base, "stepUp", accessor);
  return true;
}

/** Sets `req.stepUp` for this request (what the guard let it through with). */
export function setStepUp(req: { stepUp?: StepUpInfo }, info: StepUpInfo): void {
  const proto = Object.getPrototypeOf(req) as object | null;
  if (proto !== null && !Object.hasOwn(req, "stepUp") && accessorFor(proto)) infos.set(req, info);
  else req.stepUp = info;
}
