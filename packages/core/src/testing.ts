export { type StoreContractContext, type StoreContractSetup, storeContract } from "./store/contract.js";
