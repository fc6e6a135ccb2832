;; Source of the WebAssembly kernel in row-format-wasm.ts (rebuild: bench/mysql/assemble-row-format.mjs).
;; Formats one text-protocol row packet as "(v1,v2,...)". See src/source/mysql/row-format.ts.
;; Memory: [0,256) escape table, [256,768) hex pairs, kinds at $kinds (one byte per column).
;; Returns the new output position, or -1 when a value runs past the end of the packet.
(module
  (memory (export "memory") 1)
  (func (export "row") (param $p i32) (param $end i32) (param $kinds i32) (param $n i32) (param $o i32) (result i32)
    (local $c i32) (local $len i32) (local $e i32) (local $kind i32) (local $x i32) (local $s i32)
    (local $v v128) (local $lim i32)
    (i32.store8 (local.get $o) (i32.const 40)) ;; (
    (local.set $o (i32.add (local.get $o) (i32.const 1)))
    (block $done
      (loop $cols
        (br_if $done (i32.ge_u (local.get $c) (local.get $n)))
        (if (local.get $c) (then
          (i32.store8 (local.get $o) (i32.const 44))
          (local.set $o (i32.add (local.get $o) (i32.const 1)))))
        (local.set $len (i32.load8_u (local.get $p)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (if (i32.eq (local.get $len) (i32.const 251))
          (then
            (i32.store (local.get $o) (i32.const 0x4c4c554e)) ;; NULL
            (local.set $o (i32.add (local.get $o) (i32.const 4))))
          (else
            (if (i32.ge_u (local.get $len) (i32.const 252)) (then
              (if (i32.eq (local.get $len) (i32.const 252))
                (then
                  (local.set $len (i32.load16_u (local.get $p)))
                  (local.set $p (i32.add (local.get $p) (i32.const 2))))
                (else (if (i32.eq (local.get $len) (i32.const 253))
                  (then
                    (local.set $len (i32.or (i32.load16_u (local.get $p))
                                            (i32.shl (i32.load8_u offset=2 (local.get $p)) (i32.const 16))))
                    (local.set $p (i32.add (local.get $p) (i32.const 3))))
                  (else
                    (if (i32.load offset=4 (local.get $p)) (then (return (i32.const -1))))
                    (local.set $len (i32.load (local.get $p)))
                    (local.set $p (i32.add (local.get $p) (i32.const 8)))))))))
            (if (i32.gt_u (local.get $len) (i32.sub (local.get $end) (local.get $p))) (then (return (i32.const -1))))
            (local.set $e (i32.add (local.get $p) (local.get $len)))
            (local.set $kind (i32.load8_u (i32.add (local.get $kinds) (local.get $c))))
            (if (i32.eqz (local.get $kind))
              (then ;; number: copy
                (memory.copy (local.get $o) (local.get $p) (local.get $len))
                (local.set $o (i32.add (local.get $o) (local.get $len)))
                (local.set $p (local.get $e)))
              (else (if (i32.eq (local.get $kind) (i32.const 2))
                (then ;; hex
                  (if (i32.eqz (local.get $len))
                    (then
                      (i32.store16 (local.get $o) (i32.const 0x2727))
                      (local.set $o (i32.add (local.get $o) (i32.const 2))))
                    (else
                      (i32.store16 (local.get $o) (i32.const 0x7830)) ;; 0x
                      (local.set $o (i32.add (local.get $o) (i32.const 2)))
                      (block $hd (loop $hl
                        (br_if $hd (i32.ge_u (local.get $p) (local.get $e)))
                        (i32.store16 (local.get $o)
                          (i32.load16_u offset=256 (i32.shl (i32.load8_u (local.get $p)) (i32.const 1))))
                        (local.set $o (i32.add (local.get $o) (i32.const 2)))
                        (local.set $p (i32.add (local.get $p) (i32.const 1)))
                        (br $hl))))))
                (else ;; string (kind 1) or _binary string (kind 3)
                  (if (i32.eq (local.get $kind) (i32.const 3)) (then
                    (i32.store (local.get $o) (i32.const 0x6e69625f))            ;; _bin
                    (i32.store16 offset=4 (local.get $o) (i32.const 0x7261))     ;; ar
                    (i32.store8 offset=6 (local.get $o) (i32.const 0x79))        ;; y
                    (local.set $o (i32.add (local.get $o) (i32.const 7)))))
                  (i32.store8 (local.get $o) (i32.const 39))
                  (local.set $o (i32.add (local.get $o) (i32.const 1)))
                  (block $strdone (loop $outer
                    ;; 16 bytes at a time while none of them needs escaping
                    (block $sd (loop $sl
                      (br_if $sd (i32.lt_s (i32.sub (local.get $e) (local.get $p)) (i32.const 16)))
                      (local.set $v (v128.load (local.get $p)))
                      (br_if $sd (v128.any_true
                        (v128.or
                          (v128.or
                            (v128.or (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0)))
                                     (i8x16.eq (local.get $v) (i8x16.splat (i32.const 10))))
                            (v128.or (i8x16.eq (local.get $v) (i8x16.splat (i32.const 13)))
                                     (i8x16.eq (local.get $v) (i8x16.splat (i32.const 26)))))
                          (v128.or (i8x16.eq (local.get $v) (i8x16.splat (i32.const 39)))
                                   (i8x16.eq (local.get $v) (i8x16.splat (i32.const 92)))))))
                      (v128.store (local.get $o) (local.get $v))
                      (local.set $o (i32.add (local.get $o) (i32.const 16)))
                      (local.set $p (i32.add (local.get $p) (i32.const 16)))
                      (br $sl)))
                    ;; then up to 16 bytes one at a time
                    (local.set $lim (i32.add (local.get $p) (i32.const 16)))
                    (if (i32.gt_u (local.get $lim) (local.get $e)) (then (local.set $lim (local.get $e))))
                    (block $bd (loop $bl
                      (br_if $bd (i32.ge_u (local.get $p) (local.get $lim)))
                      (local.set $x (i32.load8_u (local.get $p)))
                      (local.set $s (i32.load8_u (local.get $x)))
                      (if (local.get $s)
                        (then
                          (i32.store8 (local.get $o) (i32.const 92))
                          (i32.store8 offset=1 (local.get $o) (local.get $s))
                          (local.set $o (i32.add (local.get $o) (i32.const 2))))
                        (else
                          (i32.store8 (local.get $o) (local.get $x))
                          (local.set $o (i32.add (local.get $o) (i32.const 1)))))
                      (local.set $p (i32.add (local.get $p) (i32.const 1)))
                      (br $bl)))
                    (br_if $outer (i32.lt_u (local.get $p) (local.get $e)))))
                  (i32.store8 (local.get $o) (i32.const 39))
                  (local.set $o (i32.add (local.get $o) (i32.const 1)))))))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $cols)))
    (i32.store8 (local.get $o) (i32.const 41)) ;; )
    (i32.add (local.get $o) (i32.const 1))))
