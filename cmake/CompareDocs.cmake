# cmake -DGENERATED=a;b -DCOMMITTED=c;d -P CompareDocs.cmake
# Fails when a committed reference page differs from the generated one.
list(LENGTH GENERATED count)
math(EXPR last "${count} - 1")
foreach(i RANGE ${last})
  list(GET GENERATED ${i} generated)
  list(GET COMMITTED ${i} committed)
  file(READ ${generated} generated_text)
  if(NOT EXISTS ${committed})
    message(FATAL_ERROR "${committed} is missing; copy ${generated} there")
  endif()
  file(READ ${committed} committed_text)
  if(NOT generated_text STREQUAL committed_text)
    message(FATAL_ERROR "${committed} is out of date with the .td files; "
                        "copy ${generated} over it")
  endif()
endforeach()
