// oidc-provider ships no types; the test stand-in uses a handful of its calls.
declare module 'oidc-provider' {
  // biome-ignore lint/suspicious/noExplicitAny: untyped third-party module, used only by a test stand-in
  const Provider: any;
  export default Provider;
}
