; mamori's own TCP fingerprints, in p0f v3 syntax (see p0f's README for the format).
;
; Written for mamori from our knowledge of the stacks' defaults (initial TTL, window,
; MSS and option order) and checked against the SYN and SYN+ACK packets of the public
; captures in ../shared/pcaps. Not derived from p0f's own p0f.fp, which mamori reads
; at run time from /etc/p0f/p0f.fp where installed (it is LGPL: never copy it here).
;
; sig = ver:ittl:olen:mss:wsize,scale:olayout:quirks:pclass
; label = s|g:class:name:flavor   (s: specific, g: generic; the OS shown is "name flavor")
;
; Confidence is modest: the plant stacks (Siemens, Rockwell, VxWorks) in particular
; are identified by their few distinctive defaults (TTL 30, window 4096, MSS-only
; options) rather than by an exhaustive study.

[tcp:request]

label = s:win:Windows:XP
sig   = *:128:0:*:64240,0:mss,nop,nop,sok:df,id+:0
sig   = *:128:0:*:65535,0:mss,nop,nop,sok:df,id+:0
sig   = *:128:0:*:16384,0:mss,nop,nop,sok:df,id+:0

label = g:win:Windows:NT kernel 5.x
sig   = *:128:0:*:8192,0:mss,nop,nop,sok:df,id+:0

label = s:win:Windows:7 or 8
sig   = *:128:0:*:8192,2:mss,nop,ws,nop,nop,sok:df,id+:0
sig   = *:128:0:*:8192,8:mss,nop,ws,nop,nop,sok:df,id+:0

label = s:win:Windows:10 or later
sig   = *:128:0:*:64240,8:mss,nop,ws,nop,nop,sok:df,id+:0
sig   = *:128:0:*:65535,8:mss,nop,ws,nop,nop,sok:df,id+:0

label = g:win:Windows:NT kernel 6.x
sig   = *:128:0:*:*,*:mss,nop,ws,nop,nop,sok:df,id+:0

label = s:unix:Linux:2.6
sig   = *:64:0:*:5840,*:mss,sok,ts,nop,ws:df,id+:0
sig   = *:64:0:*:mss*4,*:mss,sok,ts,nop,ws:df,id+:0

label = s:unix:Linux:3.x
sig   = *:64:0:*:mss*10,*:mss,sok,ts,nop,ws:df,id+:0
sig   = *:64:0:*:mss*20,*:mss,sok,ts,nop,ws:df,id+:0

label = s:unix:Linux:4.x or later
sig   = *:64:0:*:64240,*:mss,sok,ts,nop,ws:df,id+:0
sig   = *:64:0:*:mss*44,*:mss,sok,ts,nop,ws:df,id+:0

label = g:unix:Linux:
sig   = *:64:0:*:*,*:mss,sok,ts,nop,ws:df,id+:0
sig   = *:64:0:*:*,*:mss,nop,nop,sok,nop,ws:df,id+:0

label = s:unix:macOS:
sig   = *:64:0:*:65535,*:mss,nop,ws,nop,nop,ts,sok,eol+1:df,id+:0

label = s:unix:FreeBSD:
sig   = *:64:0:*:65535,*:mss,nop,ws,sok,ts:df,id+:0

label = s:other:Siemens SIMATIC:S7 PLC
sig   = 4:32:0:*:4096,0:mss::0
sig   = 4:32:0:*:8192,0:mss::0

label = s:other:Rockwell Logix:controller (VxWorks)
sig   = 4:64:0:*:4096,0:mss:df,id+:0

label = g:other:VxWorks:
sig   = 4:64:0:*:8192,0:mss::0
sig   = 4:64:0:*:4096,0:mss::0
sig   = 4:64:0:*:8192,0:mss:df,id+:0

label = g:other:lwIP:embedded
sig   = 4:255:0:*:*,0:mss::0
sig   = 4:255:0:*:*,0:mss:df:0

label = s:other:Cisco:IOS
sig   = 4:255:0:*:4128,0:mss::0

[tcp:response]

label = s:win:Windows:XP
sig   = *:128:0:*:64240,0:mss,nop,nop,sok:df,id+:0
sig   = *:128:0:*:65535,0:mss,nop,nop,sok:df,id+:0

label = g:win:Windows:NT kernel 5.x
sig   = *:128:0:*:8192,0:mss,nop,nop,sok:df,id+:0
sig   = *:128:0:*:16384,0:mss,nop,nop,sok:df,id+:0

label = g:win:Windows:NT kernel 6.x
sig   = *:128:0:*:8192,*:mss,nop,ws,sok,ts:df,id+:0
sig   = *:128:0:*:8192,*:mss,nop,ws,nop,nop,sok:df,id+:0
sig   = *:128:0:*:65535,*:mss,nop,ws,nop,nop,sok:df,id+:0

label = g:unix:Linux:
sig   = *:64:0:*:*,*:mss,sok,ts,nop,ws:df:0
sig   = *:64:0:*:*,*:mss,nop,nop,sok,nop,ws:df:0
sig   = *:64:0:*:*,0:mss,nop,nop,sok:df:0

label = s:other:Siemens SIMATIC:S7 PLC
sig   = 4:32:0:*:4096,0:mss::0
sig   = 4:32:0:*:8192,0:mss::0

label = s:other:Rockwell Logix:controller (VxWorks)
sig   = 4:64:0:*:4096,0:mss:df,id+:0

label = g:other:VxWorks:
sig   = 4:64:0:*:8192,0:mss::0
sig   = 4:64:0:*:4096,0:mss::0
sig   = 4:64:0:*:8192,0:mss:df,id+:0

label = g:other:lwIP:embedded
sig   = 4:255:0:*:*,0:mss::0
sig   = 4:255:0:*:*,0:mss:df:0

label = s:other:Cisco:IOS
sig   = 4:255:0:*:4128,0:mss::0
