-- pandoc filter for the man pages: a Markdown table becomes a definition list (first column the term,
-- the other columns "Header: value" lines), since wide tbl tables do not fit an 80-column terminal
-- and make groff warn ("cannot adjust line", lintian's groff-message).
local function blocks_inlines(blocks)
  local out = pandoc.List()
  for i, b in ipairs(blocks) do
    if i > 1 then out:insert(pandoc.Space()) end
    if b.content then out:extend(b.content) end
  end
  return out
end

function Table(tbl)
  local headers = {}
  if tbl.head and tbl.head.rows[1] then
    for i, cell in ipairs(tbl.head.rows[1].cells) do headers[i] = pandoc.utils.stringify(cell.contents) end
  end
  local items = pandoc.List()
  for _, body in ipairs(tbl.bodies) do
    for _, row in ipairs(body.body) do
      local term = blocks_inlines(row.cells[1].contents)
      local defs = pandoc.List()
      for i = 2, #row.cells do
        local value = blocks_inlines(row.cells[i].contents)
        if #value > 0 then
          local line = pandoc.List()
          if #row.cells > 2 and headers[i] and headers[i] ~= "" then
            line:insert(pandoc.Emph({pandoc.Str(headers[i] .. ":")}))
            line:insert(pandoc.Space())
          end
          line:extend(value)
          defs:insert(pandoc.Para(line))
        end
      end
      items:insert({term, {defs}})
    end
  end
  return pandoc.DefinitionList(items)
end
