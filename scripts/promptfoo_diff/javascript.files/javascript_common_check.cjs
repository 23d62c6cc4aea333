exports.words = (output) => output.split(' ').length;
