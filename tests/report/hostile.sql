-- Every string a report or header shows, made hostile: a newline then a gnuplot command,
-- quotes, a backslash at the end of a line, comment ends, HTML, a terminal escape; a GPU arch
-- that closes the header's comment.
UPDATE devices SET name = name || ' x'' ' || char(10) || 'system("touch PWNED")' || char(10) || '*/ /* ??/ "q\" <script>alert(1)</script> `touch PWNED` ' || char(27) || '[2J \';
UPDATE problems SET name = name || ' p'' ' || char(10) || 'system("touch PWNED") \' || char(10) || '<script>';
UPDATE peers SET peer = peer || ' k'' ' || char(10) || 'system("touch PWNED")' || char(13) || '"\', version = version || char(10) || 'system("touch PWNED")';
UPDATE runs SET command_line = command_line || char(10) || 'system("touch PWNED")', host = 'h' || char(27) || ']0;pwned' || char(7), fa_tune_version = '0.1.0 */ x' || char(10) || '#error pwned', source_hash = 'f00dfeed"' || char(10) || 'system("touch PWNED")';
UPDATE devices SET arch = arch || ' */' || char(10) || '#error injected through devices.arch' || char(10) || '/* ' || char(2);
