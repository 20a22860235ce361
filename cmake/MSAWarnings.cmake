# msa_warnings(<target>): -Wall -Wextra on the project's own code, and
# -Werror when MSA_WERROR is on (CI turns it on).
function(msa_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:C,CXX>:-Wall -Wextra>
    $<$<AND:$<COMPILE_LANGUAGE:C,CXX>,$<BOOL:${MSA_WERROR}>>:-Werror>)
endfunction()
