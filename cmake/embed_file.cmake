# Script mode: turns IN into a C++ source defining NS::NAME() returning the file's bytes.
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR size "${hex_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE ${OUT} "#include <string_view>\nnamespace ${NS} {\nnamespace {\nconst unsigned char kData[] = {${bytes}0x00};\n}\nstd::string_view ${NAME}() { return {reinterpret_cast<const char*>(kData), ${size}}; }\n}\n")
