// An ES module: a default export and a named one.
export default function (output) { return output.startsWith('he'); }
export const short = (output) => output.length < 8;
