import { demo } from "../../../lib/demo";

// The whole /stepup API, its pages and the browser bundle.
export const dynamic = "force-dynamic";
export const { GET, POST, PATCH, DELETE } = demo().stepup.handlers;
