// JavaScript assertion functions for javascript.yaml (promptfoo and pytest-replicate load the same file).
module.exports = (output, context) => ({
  pass: output.includes(context.vars.want),
  score: output.includes(context.vars.want) ? 0.8 : 0.2,
  reason: `looked for ${context.vars.want}`,
});
module.exports.ratio = (output) => output.length / 20;
module.exports.text = () => 'not a verdict';
module.exports.shout = (output) => output.toUpperCase();
module.exports.wrap = (output, context) => JSON.stringify({ text: output, name: context.vars.want });
module.exports.context = (varName, prompt, vars) => ({ output: `${varName}:${vars.want}` });
module.exports.expected = (output, context) => context.vars.want;
module.exports.yes = () => true;
