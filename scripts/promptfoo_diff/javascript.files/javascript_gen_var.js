module.exports = function (varName, prompt, vars) {
  return { output: `${varName} made from ${vars.want}` };
};
