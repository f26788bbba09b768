// The CBOR codec @simplewebauthn/server uses, for tests outside this package (the cross-package
// fuzzers edit attestation objects with it) that do not depend on the library themselves.
export { isoCBOR } from "@simplewebauthn/server/helpers";
