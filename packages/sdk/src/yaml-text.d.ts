/** Workflow files bundled as text by tsup's `.yaml` text loader. */
declare module '*.yaml' {
  const text: string;
  export default text;
}
